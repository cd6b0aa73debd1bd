package org.dubborecsys.test.orders;

import java.util.List;
import java.util.Map;
import java.util.Set;

/** The orders contract: overloads, generics, enums, nested POJOs and exceptions, served in a group. */
public interface OrderService extends OrderLookup {

    String VERSION = "2.1.0";
    String GROUP = "shop";

    long place(Order order) throws InvalidOrderException;

    Order find(long id) throws OrderNotFoundException;

    Order find(String code);

    List<Order> find(Status status, int limit);

    void cancel(long id, String reason) throws OrderNotFoundException;

    Map<String, List<Long>> idsByCustomer(Set<String> customers);

    Page<Order> page(int offset, int size);

    int[] quantities(long id);

    Order.Line firstLine(long id);

    Map<Status, Integer> countsByStatus();

    /** Left unimplemented by the test's provider: Java sees the skeleton's RuntimeException. */
    boolean audit(List<? extends Order> orders);
}
