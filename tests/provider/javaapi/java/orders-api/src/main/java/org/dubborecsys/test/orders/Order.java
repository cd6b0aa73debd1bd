package org.dubborecsys.test.orders;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** An order; its lines are a nested class (binary name {@code Order$Line}). */
public class Order implements Serializable {

    private static final long serialVersionUID = 1L;

    private long id;
    private String code;
    private Customer customer;
    private List<Line> lines = new ArrayList<>();
    private Status status = Status.NEW;
    private Map<String, String> notes = new HashMap<>();
    private double total;

    public static class Line implements Serializable {

        private static final long serialVersionUID = 1L;

        private String sku;
        private int quantity;
        private Double unitPrice;

        public Line() {
        }

        public Line(String sku, int quantity, Double unitPrice) {
            this.sku = sku;
            this.quantity = quantity;
            this.unitPrice = unitPrice;
        }

        public String getSku() { return sku; }
        public int getQuantity() { return quantity; }
        public Double getUnitPrice() { return unitPrice; }
    }

    public long getId() { return id; }
    public void setId(long id) { this.id = id; }

    public String getCode() { return code; }
    public void setCode(String code) { this.code = code; }

    public Customer getCustomer() { return customer; }
    public void setCustomer(Customer customer) { this.customer = customer; }

    public List<Line> getLines() { return lines; }
    public void setLines(List<Line> lines) { this.lines = lines; }

    public Status getStatus() { return status; }
    public void setStatus(Status status) { this.status = status; }

    public Map<String, String> getNotes() { return notes; }
    public void setNotes(Map<String, String> notes) { this.notes = notes; }

    public double getTotal() { return total; }
    public void setTotal(double total) { this.total = total; }
}
