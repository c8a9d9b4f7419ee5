"""Permit files (dossiers): procedures as data, filing, the workflow, deadlines, committees, decisions.

The models arrive with the dossier issue; the app is registered now so the layout matches the design card.
"""
