package vectors;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;

import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendResponse;

/**
 * The vector cases: name -> the Java value. tests/hessian2/vector_cases.py holds the Python
 * value of each name; both sides must agree on every one.
 */
final class Cases {
    /** Several top-level values written by one Hessian2Output, as a Dubbo body is. */
    static final class Stream {
        final List<Object> values;

        Stream(Object... values) {
            this.values = Arrays.asList(values);
        }
    }

    private Cases() {
    }

    static Map<String, Object> all() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("null", null);
        c.put("true", true);
        c.put("false", false);
        int[] ints = {0, -16, 47, -17, 48, -2048, 2047, -2049, 2048, -262144, 262143, -262145, 262144,
            Integer.MIN_VALUE, Integer.MAX_VALUE};
        for (int v : ints) {
            c.put("int_" + name(v), v);
        }
        long[] longs = {0, -8, 15, -9, 16, -2048, 2047, -2049, 2048, -262144, 262143, -262145, 262144,
            Integer.MIN_VALUE, Integer.MAX_VALUE, 1L + Integer.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE};
        for (long v : longs) {
            c.put("long_" + name(v), v);
        }
        c.put("double_zero", 0.0);
        c.put("double_one", 1.0);
        c.put("double_m128", -128.0);
        c.put("double_127", 127.0);
        c.put("double_128", 128.0);
        c.put("double_m32768", -32768.0);
        c.put("double_32767", 32767.0);
        c.put("double_32768", 32768.0);
        c.put("double_mill", 12.25);
        c.put("double_mill_neg", -0.001);
        c.put("double_tenth", 0.1);
        c.put("double_pi", Math.PI);
        c.put("double_big", 3e9);
        c.put("double_tiny", 1e-300);
        c.put("double_inf", Double.NEGATIVE_INFINITY);
        c.put("string_empty", "");
        c.put("string_hello", "hello");
        c.put("string_31", "a".repeat(31));
        c.put("string_32", "b".repeat(32));
        c.put("string_1023", "c".repeat(1023));
        c.put("string_1024", "d".repeat(1024));
        c.put("string_32768", "e".repeat(0x8000));
        c.put("string_bmp", "\u00e9\u4e2d\u6587\u0000!");
        c.put("string_non_bmp", "a\ud83d\ude00b\ud801\udc37");
        c.put("string_chunked", "x".repeat(0x7fff) + "\ud83d\ude00" + "y".repeat(0x8000) + "\u00e9".repeat(100));
        c.put("binary_empty", new byte[0]);
        c.put("binary_15", bytes(15));
        c.put("binary_16", bytes(16));
        c.put("binary_1023", bytes(1023));
        c.put("binary_1024", bytes(1024));
        c.put("binary_chunked", bytes(20000));
        c.put("date_minute", new Date(1699999980000L));
        c.put("date_millis", new Date(1700000000123L));
        c.put("date_before_epoch", new Date(-86400001L));
        c.put("list_empty", new ArrayList<>());
        c.put("list_mixed", new ArrayList<>(Arrays.asList(1, "a", null, 2.5, true, 7L)));
        ArrayList<Object> ten = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ten.add(i);
        }
        c.put("list_ten", ten);
        c.put("linked_list", new LinkedList<>(Arrays.asList(1, 2)));
        c.put("hash_set", new HashSet<>(Arrays.asList("only")));
        HashMap<String, Object> hashMap = new HashMap<>();
        hashMap.put("a", 1);
        c.put("hash_map", hashMap);
        HashMap<Object, Object> oddKeys = new HashMap<>();
        oddKeys.put(1, "one");
        oddKeys.put(null, "nothing");
        c.put("map_odd_keys", oddKeys);
        LinkedHashMap<String, Object> linked = new LinkedHashMap<>();
        linked.put("x", 1);
        linked.put("y", "two");
        c.put("linked_hash_map", linked);
        c.put("array_int", new int[] {1, 2, 300000});
        c.put("array_long", new long[] {1L, -5L});
        c.put("array_double", new double[] {0.5, 2.0});
        c.put("array_string", new String[] {"a", "b"});
        c.put("array_object", new Object[] {1, "a"});
        c.put("array_point", new Point[] {new Point(1, 2)});
        c.put("object_point", new Point(1, 2));
        c.put("object_points", new ArrayList<>(Arrays.asList(new Point(1, 2), new Point(3, 4))));
        Node node = new Node("n");
        node.ids.add(1L);
        node.ids.add(5000000000L);
        node.weights.put("w", 0.5);
        node.tags.add("t");
        c.put("object_node", node);
        ArrayList<Object> inner = new ArrayList<>(Arrays.asList(1));
        c.put("shared_ref", new ArrayList<>(Arrays.asList(inner, inner)));
        Node loop = new Node("loop");
        loop.next = loop;
        c.put("cyclic", loop);
        c.put("enum", Color.RED);
        c.put("enum_list", new ArrayList<>(Arrays.asList(Color.RED, Color.RED, Color.GREEN)));
        c.put("big_decimal", new BigDecimal("12.34"));
        c.put("big_decimal_exp", new BigDecimal("-1.5E+12"));
        c.put("exception", exception());
        c.put("local_date", LocalDate.of(2024, 2, 29));
        c.put("local_time", LocalTime.of(1, 2, 3, 4000));
        c.put("local_date_time", LocalDateTime.of(2024, 1, 2, 3, 4, 5, 6000));
        c.put("instant", Instant.ofEpochSecond(1700000000L, 123456000));
        c.put("duration", Duration.ofSeconds(3723, 5000));
        c.put("recommend_response", new RecommendResponse("r-1", new ArrayList<>(Arrays.asList(
                new RecommendItem("i1", 0.9, "u2i"), new RecommendItem("i2", 0.5, "hot"),
                new RecommendItem("i3", 0.123456789, "icf")))));
        c.put("stream", new Stream("2.0.2", new Point(1, 2), new Point(3, 4), inner, inner));
        return c;
    }

    static RuntimeException exception() {
        IllegalStateException cause = new IllegalStateException("inner");
        cause.setStackTrace(new StackTraceElement[] {new StackTraceElement("org.x.Inner", "run", "Inner.java", 7)});
        RuntimeException e = new RuntimeException("boom", cause);
        e.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("org.x.Svc", "call", "Svc.java", 42),
            new StackTraceElement("org.x.Main", "main", null, -2)});
        return e;
    }

    private static byte[] bytes(int size) {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (i % 251);
        }
        return data;
    }

    private static String name(long v) {
        return v < 0 ? "m" + Long.toString(v).substring(1) : Long.toString(v);
    }
}
