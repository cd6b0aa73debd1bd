package org.dubborecsys.api;

/**
 * Our own recommend contract, served by the Python provider at version {@code 1.0.0}.
 *
 * <p>Mirrors {@code interfaces/recommend.py}. Bad input is answered with a 4xx {@code code}
 * in the response, not with an exception.
 */
public interface RecommendService {

    String VERSION = "1.0.0";

    RecommendResponse recommend(RecommendRequest request);
}
