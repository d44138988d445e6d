"""Stubs generated from ``idl/*.thrift`` by ``mosaic gen --lang python``; do not edit.

Regenerate with ``client-sdks/python/regen``. Import their types from `mosaic_rpc.image`
and `mosaic_rpc.common`, not from here.
"""
