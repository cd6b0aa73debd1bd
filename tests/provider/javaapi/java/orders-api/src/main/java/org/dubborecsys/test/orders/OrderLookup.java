package org.dubborecsys.test.orders;

/** A super-interface: its methods are OrderService's too (Dubbo exports inherited methods). */
public interface OrderLookup {

    int count();
}
