package org.dubborecsys.test.orders;

import java.util.ArrayList;
import java.util.List;

/** An unchecked exception extending a JDK one, with a list field. */
public class InvalidOrderException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private List<String> problems = new ArrayList<>();

    public InvalidOrderException() {
    }

    public InvalidOrderException(String message, List<String> problems) {
        super(message);
        this.problems = problems;
    }

    public List<String> getProblems() { return problems; }
}
