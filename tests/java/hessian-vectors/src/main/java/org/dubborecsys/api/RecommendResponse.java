package org.dubborecsys.api;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Mirror of interfaces/recommend.py RecommendResponse (field order matters for byte equality). */
public class RecommendResponse implements Serializable {
    private int code = 200;
    private String message = "ok";
    private String requestId = "";
    private List<RecommendItem> items = new ArrayList<>();
    private boolean degraded;
    private String pipeline = "full";
    private Map<String, String> debugInfo;

    public RecommendResponse() {
    }

    public RecommendResponse(String requestId, List<RecommendItem> items) {
        this.requestId = requestId;
        this.items = items;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RecommendResponse)) {
            return false;
        }
        RecommendResponse other = (RecommendResponse) o;
        return code == other.code && Objects.equals(message, other.message)
                && Objects.equals(requestId, other.requestId) && Objects.equals(items, other.items)
                && degraded == other.degraded && Objects.equals(pipeline, other.pipeline)
                && Objects.equals(debugInfo, other.debugInfo);
    }

    @Override
    public int hashCode() {
        return Objects.hash(code, message, requestId, items);
    }

    @Override
    public String toString() {
        return "RecommendResponse{" + code + ", " + message + ", " + requestId + ", " + items + ", "
                + degraded + ", " + pipeline + ", " + debugInfo + "}";
    }
}
