package com.loki.www.infer;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** {@code userId} and {@code dataId} (the scene's config dataId) are required. */
public class RecRequest implements Serializable {

    private static final long serialVersionUID = 1L;

    private String userId = "";
    private String dataId = "";
    private String groupId = "";
    private String namespaceId = "";
    private List<String> exposureList = new ArrayList<>();

    public String getUserId() { return userId; }
    public void setUserId(String userId) { this.userId = userId; }

    public String getDataId() { return dataId; }
    public void setDataId(String dataId) { this.dataId = dataId; }

    public String getGroupId() { return groupId; }
    public void setGroupId(String groupId) { this.groupId = groupId; }

    public String getNamespaceId() { return namespaceId; }
    public void setNamespaceId(String namespaceId) { this.namespaceId = namespaceId; }

    public List<String> getExposureList() { return exposureList; }
    public void setExposureList(List<String> exposureList) { this.exposureList = exposureList; }

    @Override
    public String toString() {
        return "RecRequest{userId=" + userId + ", dataId=" + dataId + ", groupId=" + groupId
                + ", namespaceId=" + namespaceId + ", exposureList=" + exposureList + "}";
    }
}
