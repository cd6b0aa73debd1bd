package org.dubborecsys.example.catalog;

/** No product has this id. */
public class ProductNotFoundException extends RuntimeException {

    private long productId;

    public ProductNotFoundException() {
    }

    public ProductNotFoundException(String message, long productId) {
        super(message);
        this.productId = productId;
    }

    public long getProductId() {
        return productId;
    }
}
