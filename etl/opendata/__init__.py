"""The open-data portal: daily indicators, published datasets, BLDS permit records, DCAT and a CKAN API."""
