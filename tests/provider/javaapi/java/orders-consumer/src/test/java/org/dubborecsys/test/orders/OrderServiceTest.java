package org.dubborecsys.test.orders;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * An unmodified Dubbo 3.3 consumer of the orders contract, compiled against orders-api. The provider is
 * Python: the skeleton {@code dubbo-recsys import-java} wrote from orders-api's jar, filled in by
 * tests/provider/javaapi/test_import_roundtrip.py, served with {@code dubbo-recsys serve --app}. Its data:
 * order 1 (A-1, Ann, PAID, two lines), order 2 (B-2, Bob, NEW, no lines).
 */
@Tag("provider")
class OrderServiceTest {

    private static DubboBootstrap bootstrap;
    private static OrderService orders;

    @BeforeAll
    static void connect() {
        String url = System.getProperty("provider.url");
        if (url == null || url.isEmpty()) {
            throw new IllegalStateException("no provider address: run with -Dprovider.url=dubbo://127.0.0.1:PORT");
        }
        ApplicationConfig application = new ApplicationConfig("orders-test");
        application.setQosEnable(false);
        ReferenceConfig<OrderService> reference = new ReferenceConfig<>();
        reference.setInterface(OrderService.class);
        reference.setVersion(OrderService.VERSION);
        reference.setGroup(OrderService.GROUP);
        reference.setUrl(url);
        reference.setTimeout(5000);
        bootstrap = DubboBootstrap.newInstance().application(application).reference(reference).start();
        orders = reference.get();
    }

    @AfterAll
    static void close() {
        if (bootstrap != null) {
            bootstrap.destroy();
        }
    }

    @Test
    void findByIdReturnsNestedPojosInheritedFieldsAndEnums() throws OrderNotFoundException {
        Order order = orders.find(1L);
        assertEquals("A-1", order.getCode());
        assertEquals(Status.PAID, order.getStatus());
        assertEquals("Ann", order.getCustomer().getName()); // a field of the superclass Party
        assertEquals("ann@example.com", order.getCustomer().getEmail());
        assertEquals(new HashSet<>(Collections.singletonList("vip")), order.getCustomer().getTags());
        assertEquals(2, order.getLines().size());
        Order.Line first = order.getLines().get(0);
        assertEquals("sku-1", first.getSku());
        assertEquals(2, first.getQuantity());
        assertEquals(Double.valueOf(9.5), first.getUnitPrice());
        assertNull(order.getLines().get(1).getUnitPrice());
        assertEquals("yes", order.getNotes().get("gift"));
        assertEquals(19.0, order.getTotal());
    }

    @Test
    void overloadsAreTellApartByTheirParameterTypes() {
        assertEquals(1L, orders.find("A-1").getId());
        assertNull(orders.find("no such code"));
        List<Order> paid = orders.find(Status.PAID, 10);
        assertEquals(1, paid.size());
        assertEquals("A-1", paid.get(0).getCode());
    }

    @Test
    void checkedExceptionArrivesAsItselfWithTheSuperclassField() {
        OrderNotFoundException missing = assertThrows(OrderNotFoundException.class, () -> orders.find(99L));
        assertEquals("no order 99", missing.getMessage());
        assertEquals(99L, missing.getOrderId());
        assertThrows(OrderNotFoundException.class, () -> orders.cancel(98L, "gone"));
    }

    @Test
    void placeRoundTripsAnOrderAndRejectsABadOne() throws OrderNotFoundException {
        int before = orders.count();
        Order order = new Order();
        order.setCode("C-3");
        order.setCustomer(new Customer("Cem", "cem@example.com"));
        order.setLines(Arrays.asList(new Order.Line("sku-9", 3, 1.25)));
        long id = orders.place(order);
        assertTrue(id > 2, "new id " + id);
        assertEquals(before + 1, orders.count());
        Order back = orders.find(id);
        assertEquals("Cem", back.getCustomer().getName());
        assertEquals(3, back.getLines().get(0).getQuantity());
        assertEquals(Status.NEW, back.getStatus());

        InvalidOrderException bad = assertThrows(InvalidOrderException.class, () -> orders.place(new Order()));
        assertEquals("order rejected", bad.getMessage());
        assertEquals(Arrays.asList("no code", "no lines"), bad.getProblems());
        assertTrue(bad instanceof IllegalArgumentException);
    }

    @Test
    void voidCancelChangesTheOrder() throws OrderNotFoundException {
        orders.cancel(2L, "changed mind");
        Order cancelled = orders.find(2L);
        assertEquals(Status.CANCELLED, cancelled.getStatus());
        assertEquals("changed mind", cancelled.getNotes().get("cancel"));
    }

    @Test
    void genericsKeepTheirJavaTypes() {
        Map<String, List<Long>> ids = orders.idsByCustomer(new HashSet<>(Arrays.asList("Ann", "Nobody")));
        assertEquals(Collections.singletonList(1L), ids.get("Ann"));
        assertEquals(Long.class, ((Object) ids.get("Ann").get(0)).getClass());
        assertEquals(Collections.emptyList(), ids.get("Nobody"));

        Page<Order> page = orders.page(0, 1);
        assertEquals(1, page.getItems().size());
        assertEquals(Order.class, page.getItems().get(0).getClass());
        assertTrue(page.getTotal() >= 2);

        Map<Status, Integer> counts = orders.countsByStatus();
        assertEquals(Integer.valueOf(1), counts.get(Status.PAID));
    }

    @Test
    void arraysAndNestedReturns() {
        assertArrayEquals(new int[] {2, 1}, orders.quantities(1L));
        assertEquals("sku-1", orders.firstLine(1L).getSku());
    }

    @Test
    void aMethodLeftUnfilledAnswersARuntimeExceptionSayingSo() {
        RuntimeException unfilled = assertThrows(RuntimeException.class, () -> orders.audit(Collections.emptyList()));
        assertEquals(RuntimeException.class, unfilled.getClass()); // an application error: not retried
        assertEquals("OrderService.audit(List) is not implemented", unfilled.getMessage());
    }
}
