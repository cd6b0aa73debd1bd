package org.dubborecsys.test.orders;

/** A checked exception with a field: callers must catch it. */
public class OrderException extends Exception {

    private static final long serialVersionUID = 1L;

    private long orderId;

    public OrderException() {
    }

    public OrderException(String message, long orderId) {
        super(message);
        this.orderId = orderId;
    }

    public long getOrderId() { return orderId; }
}
