package org.dubborecsys.api;

import java.io.Serializable;

/** One recommended item; {@code score} is a Java {@code double} (a Python {@code float}). */
public class RecommendItem implements Serializable {

    private static final long serialVersionUID = 1L;

    private String itemId = "";
    private double score;
    /** The recall channel(s) that produced the item, joined by {@code +}. */
    private String channel = "";

    public RecommendItem() {
    }

    public RecommendItem(String itemId, double score, String channel) {
        this.itemId = itemId;
        this.score = score;
        this.channel = channel;
    }

    public String getItemId() { return itemId; }
    public void setItemId(String itemId) { this.itemId = itemId; }

    public double getScore() { return score; }
    public void setScore(double score) { this.score = score; }

    public String getChannel() { return channel; }
    public void setChannel(String channel) { this.channel = channel; }

    @Override
    public String toString() {
        return "RecommendItem{itemId=" + itemId + ", score=" + score + ", channel=" + channel + "}";
    }
}
