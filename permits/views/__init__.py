"""HTML pages of the permits app: ``portal`` (my dossiers, a dossier's page, uploads, receipt), ``wizard``
(filing a dossier step by step) and ``desk`` (the one-stop shop's workspace); ``common`` holds what they share.
"""
