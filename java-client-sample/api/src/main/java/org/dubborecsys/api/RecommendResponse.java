package org.dubborecsys.api;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The answer. {@code code} 200 = success, 4xx = bad request (never an exception for bad input).
 * {@code pipeline} names the pipeline that answered ({@code full}, {@code light} or
 * {@code popular}); {@code degraded} is true unless it was {@code full}. {@code debugInfo}
 * is null unless the request asked for debug.
 */
public class RecommendResponse implements Serializable {

    private static final long serialVersionUID = 1L;

    private int code = 200;
    private String message = "ok";
    private String requestId = "";
    private List<RecommendItem> items = new ArrayList<>();
    private boolean degraded;
    private String pipeline = "full";
    private Map<String, String> debugInfo;

    public int getCode() { return code; }
    public void setCode(int code) { this.code = code; }

    public String getMessage() { return message; }
    public void setMessage(String message) { this.message = message; }

    public String getRequestId() { return requestId; }
    public void setRequestId(String requestId) { this.requestId = requestId; }

    public List<RecommendItem> getItems() { return items; }
    public void setItems(List<RecommendItem> items) { this.items = items; }

    public boolean isDegraded() { return degraded; }
    public void setDegraded(boolean degraded) { this.degraded = degraded; }

    public String getPipeline() { return pipeline; }
    public void setPipeline(String pipeline) { this.pipeline = pipeline; }

    public Map<String, String> getDebugInfo() { return debugInfo; }
    public void setDebugInfo(Map<String, String> debugInfo) { this.debugInfo = debugInfo; }

    @Override
    public String toString() {
        return "RecommendResponse{code=" + code + ", message=" + message + ", requestId=" + requestId
                + ", items=" + items + ", degraded=" + degraded + ", pipeline=" + pipeline
                + ", debugInfo=" + debugInfo + "}";
    }
}
