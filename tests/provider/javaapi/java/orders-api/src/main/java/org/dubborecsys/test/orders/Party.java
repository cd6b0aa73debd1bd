package org.dubborecsys.test.orders;

import java.io.Serializable;

/** The superclass of Customer: its fields travel with every Customer. */
public class Party implements Serializable {

    private static final long serialVersionUID = 1L;

    private String name;

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
}
