package vectors;

import com.alibaba.com.caucho.hessian.io.Hessian2Input;
import com.alibaba.com.caucho.hessian.io.Hessian2Output;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * hessian-lite as the reference for the Python codec.
 *
 * <pre>
 *   write DIR   write DIR/NAME.bin for every case (Java's bytes)
 *   check DIR   read every DIR/NAME.bin (the Python codec's bytes) and compare it with the Java value
 *   hex NAME    print Java's bytes for one case
 * </pre>
 *
 * check compares what Java reads from the Python bytes with what Java reads back from its own
 * bytes (so -0.0 and similar wire facts count the same on both sides), deeply, with identity
 * checks for shared and cyclic references. It exits 1 and names every mismatch.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: write DIR | check DIR | hex NAME");
            System.exit(2);
        }
        Map<String, Object> cases = Cases.all();
        switch (args[0]) {
            case "write":
                Path dir = Paths.get(args[1]);
                Files.createDirectories(dir);
                for (Map.Entry<String, Object> e : cases.entrySet()) {
                    Files.write(dir.resolve(e.getKey() + ".bin"), encode(e.getValue()));
                }
                System.out.println("wrote " + cases.size() + " vectors to " + dir);
                break;
            case "check":
                System.exit(check(cases, Paths.get(args[1])));
                break;
            case "hex":
                StringBuilder sb = new StringBuilder();
                for (byte b : encode(cases.get(args[1]))) {
                    sb.append(String.format("%02x", b & 0xff));
                }
                System.out.println(sb);
                break;
            default:
                System.err.println("unknown mode " + args[0]);
                System.exit(2);
        }
    }

    static byte[] encode(Object value) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Hessian2Output out = new Hessian2Output(bytes);
        if (value instanceof Cases.Stream) {
            for (Object v : ((Cases.Stream) value).values) {
                out.writeObject(v);
            }
        } else {
            out.writeObject(value);
        }
        out.flush();
        return bytes.toByteArray();
    }

    static Object decode(byte[] data, boolean stream) throws IOException {
        Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(data));
        if (!stream) {
            Object value = in.readObject();
            if (in.read() != -1) {
                throw new IOException("trailing bytes after the value");
            }
            return value;
        }
        List<Object> values = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            values.add(in.readObject());
        }
        return values;
    }

    static int check(Map<String, Object> cases, Path dir) throws IOException {
        int failures = 0;
        for (Map.Entry<String, Object> e : cases.entrySet()) {
            String name = e.getKey();
            Path file = dir.resolve(name + ".bin");
            if (!Files.exists(file)) {
                System.out.println("MISSING " + name);
                failures++;
                continue;
            }
            boolean stream = e.getValue() instanceof Cases.Stream;
            try {
                Object expected = decode(encode(e.getValue()), stream);
                Object actual = decode(Files.readAllBytes(file), stream);
                String problem = same(expected, actual, new IdentityHashMap<>()) ? identity(name, actual) : "differs";
                if (problem != null) {
                    System.out.println("MISMATCH " + name + ": " + problem + "\n  expected " + show(expected)
                            + "\n  actual   " + show(actual));
                    failures++;
                } else {
                    System.out.println("OK " + name);
                }
            } catch (Exception ex) {
                System.out.println("ERROR " + name + ": " + ex);
                failures++;
            }
        }
        System.out.println(failures == 0 ? "all " + cases.size() + " vectors match" : failures + " mismatch(es)");
        return failures == 0 ? 0 : 1;
    }

    /** Sharing the values must keep: null when fine, else what is wrong. */
    static String identity(String name, Object actual) {
        switch (name) {
            case "shared_ref": {
                List<?> list = (List<?>) actual;
                return list.get(0) == list.get(1) ? null : "the two elements are not one object";
            }
            case "cyclic":
                return ((Node) actual).next == actual ? null : "next is not the node itself";
            case "stream": {
                List<?> list = (List<?>) actual;
                return list.get(3) == list.get(4) ? null : "the reference did not persist across values";
            }
            default:
                return null;
        }
    }

    static String show(Object value) {
        String text;
        if (value == null) {
            text = "null";
        } else if (value.getClass().isArray()) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) {
                items.add(Array.get(value, i));
            }
            text = value.getClass().getSimpleName() + items;
        } else {
            text = value.getClass().getName() + ":" + value;
        }
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }

    static boolean same(Object a, Object b, IdentityHashMap<Object, Object> seen) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null || a.getClass() != b.getClass()) {
            return false;
        }
        if (seen.containsKey(a)) {
            return seen.get(a) == b;
        }
        seen.put(a, b);
        if (a instanceof Double) {
            return Double.compare((Double) a, (Double) b) == 0;
        }
        if (a.getClass().isArray()) {
            int n = Array.getLength(a);
            if (n != Array.getLength(b)) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                if (!same(Array.get(a, i), Array.get(b, i), seen)) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Set) {
            return a.equals(b);
        }
        if (a instanceof Collection) {
            Collection<?> x = (Collection<?>) a;
            Collection<?> y = (Collection<?>) b;
            if (x.size() != y.size()) {
                return false;
            }
            Iterator<?> i = x.iterator();
            Iterator<?> j = y.iterator();
            while (i.hasNext()) {
                if (!same(i.next(), j.next(), seen)) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map) {
            Map<?, ?> x = (Map<?, ?>) a;
            Map<?, ?> y = (Map<?, ?>) b;
            if (!x.keySet().equals(y.keySet())) {
                return false;
            }
            for (Object key : x.keySet()) {
                if (!same(x.get(key), y.get(key), seen)) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Throwable) {
            Throwable x = (Throwable) a;
            Throwable y = (Throwable) b;
            return String.valueOf(x.getMessage()).equals(String.valueOf(y.getMessage()))
                    && same(x.getCause(), y.getCause(), seen)
                    && Arrays.equals(x.getStackTrace(), y.getStackTrace())
                    && x.getSuppressed().length == y.getSuppressed().length;
        }
        String pkg = a.getClass().getPackageName();
        if (pkg.equals("vectors") || pkg.startsWith("org.dubborecsys")) {
            return sameFields(a, b, seen);
        }
        return a.equals(b);
    }

    static boolean sameFields(Object a, Object b, IdentityHashMap<Object, Object> seen) {
        try {
            for (Field field : a.getClass().getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers())) {
                    continue;
                }
                field.setAccessible(true);
                if (!same(field.get(a), field.get(b), seen)) {
                    return false;
                }
            }
            return true;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
