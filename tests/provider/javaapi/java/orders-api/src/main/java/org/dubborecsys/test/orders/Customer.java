package org.dubborecsys.test.orders;

import java.util.LinkedHashSet;
import java.util.Set;

public class Customer extends Party {

    private static final long serialVersionUID = 1L;

    private String email;
    private Set<String> tags = new LinkedHashSet<>();
    private transient String session;

    public Customer() {
    }

    public Customer(String name, String email) {
        setName(name);
        this.email = email;
    }

    public String getEmail() { return email; }
    public void setEmail(String email) { this.email = email; }

    public Set<String> getTags() { return tags; }
    public void setTags(Set<String> tags) { this.tags = tags; }

    public String getSession() { return session; }
}
