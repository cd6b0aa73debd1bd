"""The Java ``CatalogService`` in Python: ``dubbo-recsys serve --app examples.catalog.provider:CatalogService``."""

from typing import Any

from dubbo_recsys.provider import Service, java_method
from examples.catalog.contract import Category, Price, Primitives, Product, ProductNotFoundException
from hessian2 import Byte, Char, Float, IllegalArgumentException, IllegalStateException, Long, Short
from hessian2 import UnsupportedOperationException as Unsupported


class CatalogService(Service, interface="org.dubborecsys.example.catalog.CatalogService", version="1.0.0"):
    """A product catalog, kept in memory."""

    def __init__(self) -> None:
        self.products: dict[int, Product] = {}
        self.put(Product(1, "Dune", Category.BOOKS, Price(9.5), ["sf", "classic"], {}, b"\x89PNG"))
        self.put(Product(2, "Kind of Blue", Category.MUSIC, Price(12.0), ["jazz"]))

    @java_method(throws=(ProductNotFoundException,))
    def get(self, id: Long) -> Product:
        if id not in self.products:
            raise ProductNotFoundException(f"no product {id}", productId=id)
        return self.products[id]

    @java_method("get")
    def get_by_name(self, name: str) -> Product | None:
        return next((p for p in self.products.values() if p.name == name), None)

    def put(self, product: Product) -> None:
        if not product.name:
            raise IllegalArgumentException("a product needs a name")
        self.products[product.id] = product

    def ids(self, category: Category) -> list[Long]:
        return [p.id for p in self.products.values() if p.category is category]

    def describe(self, id: Long) -> dict[str, Any]:
        product = self.get(id)
        return {"id": id, "name": product.name, "price": product.price.amount, "tags": product.tags}

    def thumbnail(self, id: Long) -> bytes:
        return self.get(id).thumbnail or b""

    def primitives(
        self, flag: bool, small: Byte, medium: Short, number: int, big: Long, ratio: Float, precise: float, letter: Char
    ) -> Primitives:
        return Primitives(flag, small, medium, number, big, ratio, precise, letter)

    def scale(self, value: Float, factor: int) -> Float:
        return value * factor

    def reserve(self, id: Long, quantity: int) -> None:
        if id not in self.products:
            missing = ProductNotFoundException(f"no product {id}", productId=id)
            raise IllegalStateException(f"cannot reserve {quantity}", cause=missing)

    @java_method(throws=(Unsupported,))
    def remove(self, id: Long) -> None:
        raise Unsupported("the catalog only grows")
