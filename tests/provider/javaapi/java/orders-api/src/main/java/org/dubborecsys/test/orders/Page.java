package org.dubborecsys.test.orders;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** A generic POJO: items are Ts in Java, whatever the provider sends in Python. */
public class Page<T> implements Serializable {

    private static final long serialVersionUID = 1L;

    private List<T> items = new ArrayList<>();
    private int offset;
    private long total;

    public List<T> getItems() { return items; }
    public void setItems(List<T> items) { this.items = items; }

    public int getOffset() { return offset; }
    public void setOffset(int offset) { this.offset = offset; }

    public long getTotal() { return total; }
    public void setTotal(long total) { this.total = total; }
}
