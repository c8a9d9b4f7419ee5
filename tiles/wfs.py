"""WFS 2.0 at ``/wfs``: the published layers of ``tiles.layers`` as django-gisserver feature types.

This module is the one adapter to django-gisserver. Feature types are built per request from the layer
catalogue, with exactly the catalogue's fields (so GML, GeoJSON, CSV and GetPropertyValue carry nothing
else), and the internal ``dossiers`` type only for a user who may read internal layers: for anyone else it
is absent from the capabilities and a request naming it fails like an unknown type.

Credentials are read before gisserver runs (:mod:`tiles.ogc_auth`: session, API token, or HTTP Basic with
the API token or the password). Responses are never cached: a permit issued or withdrawn shows at once.
Coordinates are offered in EPSG:4326 (``urn:ogc:def:crs:EPSG::4326`` in latitude/longitude order as WFS 2.0
requires; the short ``EPSG:4326`` in longitude/latitude like GeoServer), EPSG:3857 and the two Lambert
zones of Morocco, EPSG:26191 and EPSG:26192.
"""

from __future__ import annotations

import orjson
from django.conf import settings
from django.db.models import CharField, DateTimeField, F, Func, QuerySet, TextField, Value
from django.utils.cache import patch_cache_control, patch_vary_headers
from gisserver import output
from gisserver.crs import CRS, WEB_MERCATOR, WGS84
from gisserver.features import FeatureType, ServiceDescription, field
from gisserver.operations import wfs20
from gisserver.projection import FeatureProjection
from gisserver.views import WFSView

from tiles.layers import LAYERS, PublishedLayer, layers_for
from tiles.ogc_auth import sign_in_or_challenge
from tiles.streaming import keep_streaming

XML_NAMESPACE = "https://taamir.ma/ns/geo-portal"
XML_PREFIX = "taamir"
# The coordinate systems a client may ask for with srsName (the data is stored in EPSG:4326).
OTHER_CRS = [
    WEB_MERCATOR,
    CRS.from_string("urn:ogc:def:crs:EPSG::26191"),
    CRS.from_string("urn:ogc:def:crs:EPSG::26192"),
]


def feature_type(layer: PublishedLayer) -> FeatureType:
    """The WFS feature type of one published layer: its fields, its geometry, its coordinate systems."""
    fields = [field(f.name, model_attribute=f.source.replace("__", "."), abstract=str(f.title)) for f in layer.fields]
    fields.append(field(layer.geometry_field))
    return FeatureType(
        layer.queryset().order_by("pk"),
        name=layer.name,
        title=str(layer.title),
        fields=fields,
        geometry_field_name=layer.geometry_field,
        crs=WGS84,
        other_crs=OTHER_CRS,
        show_name_field=False,
        xml_namespace=XML_NAMESPACE,
    )


class JsonProperties(Func):
    """``json_build_object(name, value, …)::text``: a feature's properties, in the catalogue's order."""

    function = "json_build_object"
    template = "%(function)s(%(expressions)s)::text"
    output_field = TextField()


class CatalogueGeoJsonRenderer(output.DBGeoJsonRenderer):
    """GeoJSON written by PostgreSQL: geometry and properties arrive as JSON text, Python only joins them.

    gisserver builds a model instance and a properties dict per feature; for tens of thousands of features
    that costs more than the query. Here each row is ``(pk, geometry JSON, properties JSON)`` — the same
    fields (those of the request's projection, so PROPERTYNAME still applies) with no relation prefetch.
    """

    def decorate_queryset(self, projection: FeatureProjection, queryset: QuerySet) -> QuerySet:
        queryset = super().decorate_queryset(projection, queryset)
        layer = next(layer for layer in LAYERS if layer.name == projection.feature_type.name)
        sources = {f.name: f.source for f in layer.fields}
        pairs: list = []
        for element in projection.xsd_root_elements:
            if not element.type.is_geometry and element.name in sources:
                pairs += [Value(element.name), F(sources[element.name])]
        properties = JsonProperties(*pairs) if pairs else Value("{}", output_field=TextField())
        # "_as_" annotations are left out of gisserver's numberMatched count.
        return (
            queryset.prefetch_related(None)
            .annotate(_as_properties=properties)
            .values_list("pk", "_as_db_geojson", "_as_properties")
        )

    def render_feature(self, projection: FeatureProjection, instance) -> bytes:
        pk, geometry, properties = instance
        return b'    {"type":"Feature","id":%b,"geometry":%b,"properties":%b}' % (
            orjson.dumps(f"{projection.feature_type.name}.{pk}"),
            geometry.encode() if geometry else b"null",
            properties.encode(),
        )


class XmlField(Func):
    """One ``<taamir:name>value</taamir:name>`` element as text (``xsi:nil`` for NULL).

    Text is escaped for XML; dates print as ``2025-03-10``; date-times through ``to_json`` as ISO 8601 with
    the ``T`` (``2025-10-01T09:30:00+00:00``); numbers and booleans as XML Schema reads them.
    """

    output_field = TextField()

    def __init__(self, qname: str, expression, *, model_field) -> None:
        super().__init__(expression)
        if isinstance(model_field, (CharField, TextField)):
            value = "replace(replace(replace(%(expressions)s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
        elif isinstance(model_field, DateTimeField):
            value = "(to_json(%(expressions)s) #>> '{}')"
        else:
            value = "%(expressions)s::text"
        self.template = (
            f"CASE WHEN %(expressions)s IS NULL THEN '<{qname} xsi:nil=\"true\"/>' || chr(10) "
            f"ELSE '<{qname}>' || {value} || '</{qname}>' || chr(10) END"
        )


class Joined(Func):
    """``(a || b || …)``."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()


class CatalogueGML32Renderer(output.DBGML32Renderer):
    """GML 3.2 whose attribute elements PostgreSQL writes, next to the geometry and envelope it already writes.

    Each row is a dict: pk, the envelope's GML, the geometry's GML and the attribute elements as one text —
    the same document gisserver writes, without a model instance and a method call per attribute.
    """

    def decorate_queryset(self, projection: FeatureProjection, queryset: QuerySet) -> QuerySet:
        queryset = super().decorate_queryset(projection, queryset)
        layer = next(layer for layer in LAYERS if layer.name == projection.feature_type.name)
        sources = {f.name: f.source for f in layer.fields}
        elements = [
            XmlField(f"{XML_PREFIX}:{element.name}", F(sources[element.name]), model_field=element.source)
            for element in projection.xsd_root_elements
            if not element.type.is_geometry and element.name in sources
        ]
        fields_xml = Joined(*elements) if elements else Value("", output_field=TextField())
        # Per feature type: a GetFeature may name several (TYPENAMES=a,b).
        self._geometry_annotations = getattr(self, "_geometry_annotations", {})
        self._geometry_annotations[projection.feature_type.name] = {
            element: f"_AsGML_{element.local_orm_path.replace('.', '_')}"
            for element in projection.geometry_elements
            if element.source is not None
        }
        names = [name for name in queryset.query.annotations if name.startswith(("_AsGML_", "_as_envelope_gml"))]
        return (
            queryset.prefetch_related(None).annotate(_as_fields_xml=fields_xml).values("pk", "_as_fields_xml", *names)
        )

    def write_feature(self, projection: FeatureProjection, instance, extra_xmlns: str = "") -> None:
        feature_type = projection.feature_type
        qname = self.feature_qnames[feature_type]
        pk = instance["pk"]
        self._write(f'<{qname} gml:id="{feature_type.name}.{pk}"{extra_xmlns}>\n')
        envelope = instance.get("_as_envelope_gml")
        if envelope:
            self._write(f"<gml:boundedBy>{self._fix_db_crs_name(projection, envelope)}</gml:boundedBy>\n")
        self._write(instance["_as_fields_xml"])
        for element, annotation in self._geometry_annotations[feature_type.name].items():
            element_qname = self.xml_qnames[element]
            value = instance.get(annotation)
            if value is None:
                self._write(f'<{element_qname} xsi:nil="true"{extra_xmlns}/>\n')
                continue
            gml_id = self.get_gml_id(feature_type.model._meta.object_name, pk)
            gml = self.render_gml_value(projection, gml_id, value, extra_xmlns=extra_xmlns)
            self._write(f"<{element_qname}{extra_xmlns}>{gml}</{element_qname}>\n")
        self._write(f"</{qname}>\n")


# gisserver's renderers → ours (same formats, database-built features).
RENDERERS = {
    output.DBGeoJsonRenderer: CatalogueGeoJsonRenderer,
    output.GeoJsonRenderer: CatalogueGeoJsonRenderer,
    output.DBGML32Renderer: CatalogueGML32Renderer,
    output.GML32Renderer: CatalogueGML32Renderer,
}


class GeoPortalGetFeature(wfs20.GetFeature):
    """GetFeature with the catalogue's database-built GeoJSON and GML."""

    def get_output_formats(self):
        formats = super().get_output_formats()
        for output_format in formats:
            output_format.renderer_class = RENDERERS.get(output_format.renderer_class, output_format.renderer_class)
        return formats


class GeoPortalWFSView(WFSView):
    """The platform's WFS: public layers for everyone, the internal ones for staff who may read them."""

    xml_namespace = XML_NAMESPACE
    xml_namespace_aliases = {XML_PREFIX: XML_NAMESPACE}
    index_template_name = "gisserver/index.html"
    accept_operations = {"WFS": {**WFSView.accept_operations["WFS"], "GetFeature": GeoPortalGetFeature}}

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.TAAMIR_WFS_MAX_PAGE_SIZE

    def dispatch(self, request, *args, **kwargs):
        refused = sign_in_or_challenge(request)
        if refused is not None:
            return refused
        response = super().dispatch(request, *args, **kwargs)
        # Features change when a permit is issued or withdrawn: never serve them from a cache.
        patch_cache_control(response, no_store=True, private=True)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return keep_streaming(request, response)

    def get_service_description(self, service: str | None = None) -> ServiceDescription:
        return ServiceDescription(
            title="Taamir WFS",
            abstract="Authorised works, parcels, zoning, constraints and administrative areas.",
            keywords=["urbanism", "building permits", "parcels", "zoning"],
            provider_name=settings.TAAMIR_OGC_PROVIDER,
        )

    def get_feature_types(self) -> list[FeatureType]:
        # Built once per request (gisserver asks several times), for the user resolved in dispatch().
        if getattr(self, "_feature_types", None) is None:
            self._feature_types = [feature_type(layer) for layer in layers_for(self.request.user)]
        return self._feature_types
