package org.dubborecsys.test.orders;

/** An enum with a field: Hessian sends only the constant's name. */
public enum Status {
    NEW("new"), PAID("paid"), SHIPPED("shipped"), CANCELLED("cancelled");

    private final String label;

    Status(String label) {
        this.label = label;
    }

    public String getLabel() {
        return label;
    }
}
