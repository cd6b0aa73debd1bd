package org.dubborecsys.example.catalog;

import java.util.List;
import java.util.Map;

/** A product catalog: the Java contract a Python provider implements (version 1.0.0). */
public interface CatalogService {

    String VERSION = "1.0.0";

    /** The product with this id. */
    Product get(long id) throws ProductNotFoundException;

    /** The product with this name, or null (an overload of {@link #get(long)}). */
    Product get(String name);

    /** Adds or replaces a product; IllegalArgumentException without a name. */
    void put(Product product);

    /** Ids of the products of a category. */
    List<Long> ids(Category category);

    /** A product as loose key/values: id (Long), name (String), price (Double), tags (List). */
    Map<String, Object> describe(long id);

    /** The product's thumbnail bytes. */
    byte[] thumbnail(long id);

    /** Every primitive type, given back in one object. */
    Primitives primitives(boolean flag, byte small, short medium, int number, long big, float ratio, double precise,
            char letter);

    /** value * factor, as a float both ways. */
    float scale(float value, int factor);

    /** IllegalStateException (caused by ProductNotFoundException) for an unknown product. */
    void reserve(long id, int quantity);

    /** Always UnsupportedOperationException: the catalog only grows. */
    void remove(long id) throws UnsupportedOperationException;
}
