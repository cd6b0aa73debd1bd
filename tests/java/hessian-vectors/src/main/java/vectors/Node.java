package vectors;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A POJO with typed collections and a self-typed field (for cycles). Equality is checked by Main. */
public class Node implements Serializable {
    String name;
    Node next;
    List<Long> ids = new ArrayList<>();
    Map<String, Double> weights = new HashMap<>();
    Set<String> tags = new HashSet<>();

    public Node() {
    }

    public Node(String name) {
        this.name = name;
    }
}
