package com.loki.www.infer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code code} is a Java {@code long} (200 success, 400 bad request, 500 failure);
 * {@code data} holds one {@code "<itemId>:<score>"} string per item, best first.
 */
public class RecResponse implements Serializable {

    private static final long serialVersionUID = 1L;

    private long code = 200L;
    private String message = "ok";
    private List<String> data = new ArrayList<>();

    public long getCode() { return code; }
    public void setCode(long code) { this.code = code; }

    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }

    public List<String> getData() { return data; }
    public void setData(List<String> data) { this.data = data; }

    @Override
    public String toString() {
        return "RecResponse{code=" + code + ", message=" + message + ", data=" + data + "}";
    }
}
