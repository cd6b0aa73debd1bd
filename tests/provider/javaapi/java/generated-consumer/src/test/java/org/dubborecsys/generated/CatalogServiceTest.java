package org.dubborecsys.generated;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.dubborecsys.example.catalog.CatalogService;
import org.dubborecsys.example.catalog.Category;
import org.dubborecsys.example.catalog.Price;
import org.dubborecsys.example.catalog.Primitives;
import org.dubborecsys.example.catalog.Product;
import org.dubborecsys.example.catalog.ProductNotFoundException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** examples/catalog through the Java API generated from its Python provider, not the hand-written one. */
@Tag("provider")
class CatalogServiceTest {

    private static DubboBootstrap bootstrap;
    private static CatalogService catalog;

    @BeforeAll
    static void connect() {
        ReferenceConfig<CatalogService> reference =
                Providers.reference(CatalogService.class, CatalogService.VERSION, "catalog.url");
        bootstrap = Providers.start("generated-catalog-test", reference);
        catalog = reference.get();
    }

    @AfterAll
    static void close() {
        if (bootstrap != null) {
            bootstrap.destroy();
        }
    }

    @Test
    void getBothOverloads() {
        Product dune = catalog.get(1L);
        assertEquals("Dune", dune.getName());
        assertEquals(Category.BOOKS, dune.getCategory());
        assertEquals(9.5, dune.getPrice().getAmount());
        assertEquals(Arrays.asList("sf", "classic"), dune.getTags());
        assertEquals(2L, catalog.get("Kind of Blue").getId());
        assertNull(catalog.get("no such name"));
    }

    @Test
    void putThroughTheGeneratedConstructorsAndDefaults() {
        Price price = new Price();
        assertEquals("EUR", price.getCurrency()); // the Python default
        price.setAmount(30.0);
        Map<String, Object> attributes = new HashMap<>();
        attributes.put("players", 2);
        Product game = new Product(10L, "Go", Category.GAMES, price, Arrays.asList("board"), attributes,
                new byte[] {1, 2, 3});
        catalog.put(game);
        Product back = catalog.get(10L);
        assertEquals("EUR", back.getPrice().getCurrency());
        assertEquals(attributes, back.getAttributes());
        assertArrayEquals(new byte[] {1, 2, 3}, catalog.thumbnail(10L));
    }

    @Test
    void listOfLongsAndPrimitives() {
        List<Long> ids = catalog.ids(Category.MUSIC);
        assertEquals(Collections.singletonList(2L), ids);
        assertEquals(Long.class, ((Object) ids.get(0)).getClass());
        Primitives all = catalog.primitives(true, (byte) -7, (short) 1234, 42, 1L << 40, 1.5f, 2.25, 'x');
        assertTrue(all.isFlag());
        assertEquals(1L << 40, all.getBig());
        assertEquals('x', all.getLetter());
        assertEquals(3.75f, catalog.scale(1.25f, 3));
    }

    @Test
    void exceptionsOfTheGeneratedApi() {
        ProductNotFoundException missing = assertThrows(ProductNotFoundException.class, () -> catalog.get(99L));
        assertEquals(99L, missing.getProductId());
        assertThrows(IllegalArgumentException.class, () -> catalog.put(new Product()));
        IllegalStateException state = assertThrows(IllegalStateException.class, () -> catalog.reserve(77L, 3));
        assertEquals(ProductNotFoundException.class, state.getCause().getClass());
        assertThrows(UnsupportedOperationException.class, () -> catalog.remove(1L));
    }
}
