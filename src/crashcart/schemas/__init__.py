"""Raw- and processed-crash field schemas: the one definition of every known field (issue #4 point 2).

``load_schemas()`` reads the YAML files shipped here (plus a deployment's extra-fields file) into frozen
``Schema`` objects; ``public_view()`` redacts a document to its public fields; ``render_data_dictionary()``
renders the docs page.
"""

from crashcart.schemas._docs import render_data_dictionary
from crashcart.schemas._schema import (
    FIELD_TYPES,
    PERMISSIONS,
    FieldSpec,
    FieldType,
    Permission,
    Schema,
    SchemaError,
    SchemaKind,
    Schemas,
    builtin_schemas,
    is_public,
    load_schemas,
    public_view,
)

__all__ = [
    "FIELD_TYPES",
    "PERMISSIONS",
    "FieldSpec",
    "FieldType",
    "Permission",
    "Schema",
    "SchemaError",
    "SchemaKind",
    "Schemas",
    "builtin_schemas",
    "is_public",
    "load_schemas",
    "public_view",
    "render_data_dictionary",
]
