package org.dubborecsys.example.catalog;

import java.io.Serializable;

/** An amount in a currency. */
public class Price implements Serializable {

    private double amount;
    private String currency = "EUR";

    public Price() {
    }

    public Price(double amount, String currency) {
        this.amount = amount;
        this.currency = currency;
    }

    public double getAmount() {
        return amount;
    }

    public void setAmount(double amount) {
        this.amount = amount;
    }

    public String getCurrency() {
        return currency;
    }

    public void setCurrency(String currency) {
        this.currency = currency;
    }
}
