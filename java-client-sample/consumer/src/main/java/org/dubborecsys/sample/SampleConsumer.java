package org.dubborecsys.sample;

import com.loki.www.infer.DubbogoInferService;
import com.loki.www.infer.RecRequest;
import com.loki.www.infer.RecResponse;
import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendRequest;
import org.dubborecsys.api.RecommendResponse;
import org.dubborecsys.api.RecommendService;

/**
 * The sample a Java shop would start from: ask the Python provider for recommendations.
 *
 * <pre>
 *   java -cp ... org.dubborecsys.sample.SampleConsumer dubbo://127.0.0.1:20880 [userId]
 *   java -cp ... org.dubborecsys.sample.SampleConsumer nacos://127.0.0.1:8848 [userId]
 * </pre>
 *
 * Exits 0 when both services answered with code 200, 1 otherwise.
 */
public final class SampleConsumer {

    private SampleConsumer() {
    }

    public static void main(String[] args) {
        String address = args.length > 0 ? args[0] : "dubbo://127.0.0.1:20880";
        String userId = args.length > 1 ? args[1] : "1";
        int status;
        try (RecsysConsumer consumer = RecsysConsumer.open("recsys-java-sample", address)) {
            status = run(consumer, userId);
        }
        System.exit(status);
    }

    static int run(RecsysConsumer consumer, String userId) {
        RecommendService recommend = consumer.recommendService();
        RecommendResponse response = recommend.recommend(new RecommendRequest(userId, "home", 5));
        System.out.printf("recommend: code=%d pipeline=%s degraded=%b requestId=%s%n",
                response.getCode(), response.getPipeline(), response.isDegraded(), response.getRequestId());
        for (RecommendItem item : response.getItems()) {
            System.out.printf("  %-12s %.4f %s%n", item.getItemId(), item.getScore(), item.getChannel());
        }

        DubbogoInferService infer = consumer.inferService();
        RecRequest request = new RecRequest();
        request.setUserId(userId);
        request.setDataId("home");
        RecResponse seed = infer.RecommenderInfer(request);
        System.out.printf("RecommenderInfer: code=%d data=%s%n", seed.getCode(), seed.getData());

        return response.getCode() == 200 && seed.getCode() == 200L ? 0 : 1;
    }
}
