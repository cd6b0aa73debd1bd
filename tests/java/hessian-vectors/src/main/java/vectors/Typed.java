package vectors;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One field of every Java type a bound Python class declares, for vectors.Probe: a probe
 * sends an object of this class with one field holding a value of some Hessian type and
 * records what hessian-lite makes of it (the converted value, or the exception).
 */
public class Typed implements Serializable {
    int i;
    long l;
    double d;
    float f;
    boolean b;
    String s;
    char c;
    short sh;
    byte by;
    Integer boxedInt;
    Long boxedLong;
    List<Long> longs;
    Map<String, Long> counts;
    Set<String> tags;
    BigDecimal amount;
    Point point;
    Color color;
}
