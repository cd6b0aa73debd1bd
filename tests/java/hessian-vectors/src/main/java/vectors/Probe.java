package vectors;

import com.alibaba.com.caucho.hessian.io.Hessian2Input;

import java.io.ByteArrayInputStream;
import java.lang.reflect.Field;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What hessian-lite accepts: {@code Probe DIR} reads every DIR/NAME.bin with Hessian2Input
 * and prints one line per file, {@code NAME<TAB>RENDERING}, where the rendering is
 * {@code ERROR} when hessian-lite throws, else a canonical form of the value (see
 * {@link #render}); for {@code field-F-...} files, the value is an instance of
 * {@link Typed} and only its field F is rendered. tests/hessian2/probe_cases.py writes the
 * files and renders the Python codec's answers the same way.
 */
public final class Probe {
    private Probe() {
    }

    public static void main(String[] args) throws Exception {
        List<Path> files;
        try (Stream<Path> listing = Files.list(Paths.get(args[0]))) {
            files = listing.filter(p -> p.toString().endsWith(".bin")).sorted().collect(Collectors.toList());
        }
        for (Path file : files) {
            String name = file.getFileName().toString().replaceAll("\\.bin$", "");
            String result;
            try {
                Hessian2Input in = new Hessian2Input(new ByteArrayInputStream(Files.readAllBytes(file)));
                Object value = in.readObject();
                if (name.startsWith("field-")) {
                    Field field = Typed.class.getDeclaredField(name.split("-")[1]);
                    field.setAccessible(true);
                    value = field.get(value);
                }
                result = render(value);
            } catch (Exception | Error e) {
                result = System.getenv("PROBE_DEBUG") == null ? "ERROR" : "ERROR " + e;
            }
            System.out.println(name + "\t" + result);
        }
    }

    static String hex(String text) {
        StringBuilder sb = new StringBuilder();
        for (char ch : text.toCharArray()) {
            sb.append(String.format("%04x", (int) ch));
        }
        return sb.toString();
    }

    static String bits(double value) {
        return Long.toHexString(Double.doubleToRawLongBits(value));
    }

    /** A canonical text of a value: a type letter and the value, containers sorted where unordered. */
    static String render(Object v) {
        if (v == null) {
            return "N";
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return "I" + v;
        }
        if (v instanceof Long) {
            return "L" + v;
        }
        if (v instanceof Double) {
            return "D" + bits((Double) v);
        }
        if (v instanceof Float) {
            return "D" + bits((double) (Float) v);
        }
        if (v instanceof Boolean) {
            return "Z" + v;
        }
        if (v instanceof Character) {
            return "T" + hex(String.valueOf(v));
        }
        if (v instanceof String) {
            return "T" + hex((String) v);
        }
        if (v instanceof BigDecimal) {
            return "M" + v;
        }
        if (v instanceof UUID) {
            return "U" + v;
        }
        if (v instanceof LocalDate) {
            LocalDate d = (LocalDate) v;
            return "LD" + d.getYear() + "," + d.getMonthValue() + "," + d.getDayOfMonth();
        }
        if (v instanceof LocalTime) {
            LocalTime t = (LocalTime) v;
            return "LT" + t.getHour() + "," + t.getMinute() + "," + t.getSecond() + "," + t.getNano() / 1000;
        }
        if (v instanceof LocalDateTime) {
            LocalDateTime t = (LocalDateTime) v;
            return render(t.toLocalDate()) + ";" + render(t.toLocalTime());
        }
        if (v instanceof Instant) {
            Instant t = (Instant) v;
            return "IN" + t.getEpochSecond() + "," + t.getNano() / 1000;
        }
        if (v instanceof Duration) {
            Duration t = (Duration) v;
            return "DU" + t.getSeconds() + "," + t.getNano() / 1000;
        }
        if (v instanceof Enum) {
            return "E" + ((Enum<?>) v).name();
        }
        if (v instanceof Point) {
            return "P" + ((Point) v).x + "," + ((Point) v).y;
        }
        if (v instanceof Set) {
            return "{" + new TreeSet<>(renderAll((Collection<?>) v)) + "}";
        }
        if (v instanceof Collection) {
            return renderAll((Collection<?>) v).toString();
        }
        if (v instanceof Map) {
            TreeSet<String> entries = new TreeSet<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                entries.add(render(e.getKey()) + "=" + render(e.getValue()));
            }
            return "<" + entries + ">";
        }
        return "?" + v.getClass().getName();
    }

    static List<String> renderAll(Collection<?> items) {
        List<String> out = new ArrayList<>();
        for (Object item : items) {
            out.add(render(item));
        }
        return out;
    }
}
