package org.dubborecsys.example.catalog;

import java.io.Serializable;

/** One value of every Java primitive type. */
public class Primitives implements Serializable {

    private boolean flag;
    private byte small;
    private short medium;
    private int number;
    private long big;
    /** A double: a float field does not survive hessian-lite 4.0.x (it stores a double over the next field). */
    private double ratio;
    private double precise;
    private char letter;

    public boolean isFlag() {
        return flag;
    }

    public byte getSmall() {
        return small;
    }

    public short getMedium() {
        return medium;
    }

    public int getNumber() {
        return number;
    }

    public long getBig() {
        return big;
    }

    public double getRatio() {
        return ratio;
    }

    public double getPrecise() {
        return precise;
    }

    public char getLetter() {
        return letter;
    }
}
