package org.dubborecsys.api;

import java.io.Serializable;
import java.util.Objects;

/** Mirror of interfaces/recommend.py RecommendItem (field order matters for byte equality). */
public class RecommendItem implements Serializable {
    private String itemId;
    private double score;
    private String channel;

    public RecommendItem() {
    }

    public RecommendItem(String itemId, double score, String channel) {
        this.itemId = itemId;
        this.score = score;
        this.channel = channel;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RecommendItem)) {
            return false;
        }
        RecommendItem other = (RecommendItem) o;
        return Objects.equals(itemId, other.itemId) && Double.compare(score, other.score) == 0
                && Objects.equals(channel, other.channel);
    }

    @Override
    public int hashCode() {
        return Objects.hash(itemId, score, channel);
    }

    @Override
    public String toString() {
        return "RecommendItem{" + itemId + ", " + score + ", " + channel + "}";
    }
}
