package org.dubborecsys.api;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What to recommend, for whom. Field names and types match {@code interfaces/recommend.py}:
 * Hessian matches fields by name, and {@code count} is a Java {@code int} on both sides.
 *
 * <p>{@code candidateIds}, when non-empty, skips recall and ranks exactly these items;
 * {@code exposureList} items are filtered out; {@code context} is free key/values for features.
 */
public class RecommendRequest implements Serializable {

    private static final long serialVersionUID = 1L;

    private String userId = "";
    private String scene = "";
    private int count = 10;
    private List<String> exposureList = new ArrayList<>();
    private Map<String, String> context = new HashMap<>();
    private List<String> candidateIds = new ArrayList<>();
    private boolean debug;

    public RecommendRequest() {
    }

    public RecommendRequest(String userId, String scene, int count) {
        this.userId = userId;
        this.scene = scene;
        this.count = count;
    }

    public String getUserId() { return userId; }
    public void setUserId(String userId) { this.userId = userId; }

    public String getScene() { return scene; }
    public void setScene(String scene) { this.scene = scene; }

    public int getCount() { return count; }
    public void setCount(int count) { this.count = count; }

    public List<String> getExposureList() { return exposureList; }
    public void setExposureList(List<String> exposureList) { this.exposureList = exposureList; }

    public Map<String, String> getContext() { return context; }
    public void setContext(Map<String, String> context) { this.context = context; }

    public List<String> getCandidateIds() { return candidateIds; }
    public void setCandidateIds(List<String> candidateIds) { this.candidateIds = candidateIds; }

    public boolean isDebug() { return debug; }
    public void setDebug(boolean debug) { this.debug = debug; }

    @Override
    public String toString() {
        return "RecommendRequest{userId=" + userId + ", scene=" + scene + ", count=" + count
                + ", exposureList=" + exposureList + ", context=" + context
                + ", candidateIds=" + candidateIds + ", debug=" + debug + "}";
    }
}
