package org.dubborecsys.test.orders;

/** Extends the checked OrderException; its orderId is the superclass's field. */
public class OrderNotFoundException extends OrderException {

    private static final long serialVersionUID = 1L;

    public OrderNotFoundException() {
    }

    public OrderNotFoundException(String message, long orderId) {
        super(message, orderId);
    }
}
