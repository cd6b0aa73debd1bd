package org.dubborecsys.example.catalog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.rpc.service.GenericException;
import org.apache.dubbo.rpc.service.GenericService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * An unmodified Dubbo 3.3 consumer of the catalog, served from Python by
 * {@code dubbo-recsys serve --app examples.catalog.provider:CatalogService}
 * ({@code -Dprovider.url=dubbo://host:port}; tests/examples starts it). Plain
 * {@link ReferenceConfig}, default settings: what a Java shop already writes.
 */
@Tag("provider")
class CatalogServiceTest {

    private static DubboBootstrap bootstrap;
    private static CatalogService catalog;
    private static GenericService generic;

    @BeforeAll
    static void connect() {
        String url = System.getProperty("provider.url");
        if (url == null || url.isEmpty()) {
            throw new IllegalStateException("no provider address: run with -Dprovider.url=dubbo://127.0.0.1:PORT");
        }
        ApplicationConfig application = new ApplicationConfig("catalog-example-test");
        application.setQosEnable(false);
        ReferenceConfig<CatalogService> typed = new ReferenceConfig<>();
        typed.setInterface(CatalogService.class);
        typed.setVersion(CatalogService.VERSION);
        typed.setUrl(url);
        typed.setTimeout(5000);
        ReferenceConfig<GenericService> untyped = new ReferenceConfig<>();
        untyped.setInterface(CatalogService.class.getName());
        untyped.setVersion(CatalogService.VERSION);
        untyped.setGeneric("true");
        untyped.setUrl(url);
        bootstrap = DubboBootstrap.newInstance().application(application).reference(typed).reference(untyped).start();
        catalog = typed.get();
        generic = untyped.get();
    }

    @AfterAll
    static void close() {
        if (bootstrap != null) {
            bootstrap.destroy();
        }
    }

    @Test
    void getAndItsOverloadByName() {
        Product dune = catalog.get(1L);
        assertEquals("Dune", dune.getName());
        assertEquals(Category.BOOKS, dune.getCategory());
        assertEquals(9.5, dune.getPrice().getAmount());
        assertEquals("EUR", dune.getPrice().getCurrency());
        assertEquals(List.of("sf", "classic"), dune.getTags());
        assertEquals(2L, catalog.get("Kind of Blue").getId());
        assertNull(catalog.get("no such name"));
    }

    @Test
    void voidPutRoundTripsNestedPojosMapsAndBytes() {
        Product game = new Product(10L, "Go", Category.GAMES, new Price(30.0, "USD"));
        game.setTags(List.of("board"));
        game.setAttributes(Map.of("players", 2, "weight", 1.5, "rules", List.of("ko"), "rated", true));
        game.setThumbnail(new byte[] {1, 2, 3});
        catalog.put(game);
        Product back = catalog.get(10L);
        assertEquals(Category.GAMES, back.getCategory());
        assertEquals("USD", back.getPrice().getCurrency());
        assertEquals(game.getAttributes(), back.getAttributes());
        assertEquals(Integer.class, back.getAttributes().get("players").getClass());
        assertArrayEquals(new byte[] {1, 2, 3}, catalog.thumbnail(10L));
    }

    @Test
    void listOfLongsHoldsLongs() {
        List<Long> ids = catalog.ids(Category.MUSIC);
        assertEquals(List.of(2L), ids);
        for (Object id : ids) {
            assertEquals(Long.class, id.getClass(), "a List<Long> must hold java.lang.Long");
        }
    }

    @Test
    void mapOfStringToObjectKeepsJavaTypes() {
        Map<String, Object> described = catalog.describe(1L);
        assertEquals(1L, described.get("id"));
        assertEquals(Long.class, described.get("id").getClass());
        assertEquals(Double.class, described.get("price").getClass());
        assertEquals("Dune", described.get("name"));
        assertEquals(List.of("sf", "classic"), described.get("tags"));
    }

    @Test
    void blob() {
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, catalog.thumbnail(1L));
    }

    @Test
    void everyPrimitiveTypeBothWays() {
        Primitives all = catalog.primitives(true, (byte) -7, (short) 1234, 42, 1L << 40, 1.5f, 2.25, 'x');
        assertTrue(all.isFlag());
        assertEquals((byte) -7, all.getSmall());
        assertEquals((short) 1234, all.getMedium());
        assertEquals(42, all.getNumber());
        assertEquals(1L << 40, all.getBig());
        assertEquals(1.5, all.getRatio());
        assertEquals(2.25, all.getPrecise());
        assertEquals('x', all.getLetter());
    }

    @Test
    void floatBothWays() {
        assertEquals(3.75f, catalog.scale(1.25f, 3));
    }

    @Test
    void theContractsOwnExceptionArrivesAsItselfWithItsFields() {
        ProductNotFoundException error = assertThrows(ProductNotFoundException.class, () -> catalog.get(99L));
        assertEquals("no product 99", error.getMessage());
        assertEquals(99L, error.getProductId());
    }

    @Test
    void standardJavaExceptionsArriveAsThemselvesWithTheirCause() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> catalog.put(new Product()));
        assertEquals("a product needs a name", bad.getMessage());
        IllegalStateException state = assertThrows(IllegalStateException.class, () -> catalog.reserve(77L, 3));
        assertEquals("cannot reserve 3", state.getMessage());
        assertEquals(ProductNotFoundException.class, state.getCause().getClass());
        assertEquals(77L, ((ProductNotFoundException) state.getCause()).getProductId());
        UnsupportedOperationException unsupported =
                assertThrows(UnsupportedOperationException.class, () -> catalog.remove(1L));
        assertEquals("the catalog only grows", unsupported.getMessage());
    }

    @Test
    void anUnexpectedPythonErrorIsARuntimeExceptionWithoutPythonInternals() {
        catalog.put(new Product(20L, "No price yet", Category.BOOKS, null));
        RuntimeException error = assertThrows(RuntimeException.class, () -> catalog.describe(20L));
        assertEquals(RuntimeException.class, error.getClass());
        String message = error.getMessage();
        assertTrue(message.startsWith("Internal error in org.dubborecsys.example.catalog.CatalogService.describe(long)"),
                message);
        assertFalse(message.contains("AttributeError") || message.contains("NoneType") || message.contains(".py"),
                message);
    }

    @Test
    void anArgumentOfTheWrongTypeIsAnIllegalArgumentException() {
        GenericException error = assertThrows(GenericException.class,
                () -> generic.$invoke("ids", new String[] {Category.class.getName()}, new Object[] {"PURPLE"}));
        assertEquals(IllegalArgumentException.class.getName(), error.getExceptionClass());
        assertTrue(error.getExceptionMessage().endsWith("category: expected " + Category.class.getName()
                + ", got 'PURPLE'"), error.getExceptionMessage());
        GenericException notAList = assertThrows(GenericException.class,
                () -> generic.$invoke("put", new String[] {Product.class.getName()},
                        new Object[] {Map.of("class", Product.class.getName(), "name", "x", "tags", "a,b")}));
        assertTrue(notAList.getExceptionMessage().endsWith(
                "product.tags: expected java.util.List<java.lang.String>, got java.lang.String"),
                notAList.getExceptionMessage());
    }
}
