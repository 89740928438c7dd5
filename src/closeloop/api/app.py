"""The /api/v1 NinjaAPI object; routers are added by closeloop.api.routers."""

from ninja import NinjaAPI

api = NinjaAPI(title="closeloop", version="1", urls_namespace="api")
