package vectors;

/** Enums travel as an object with one field, "name". */
public enum Color {
    RED, GREEN
}
