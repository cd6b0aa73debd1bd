package vectors;

import com.alibaba.com.caucho.hessian.io.Hessian2Input;
import com.alibaba.com.caucho.hessian.io.Hessian2Output;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.dubborecsys.api.RecommendItem;
import org.dubborecsys.api.RecommendResponse;

/**
 * hessian-lite's encode/decode time for the benchmark payload of bench/codec/bench_codec.py:
 * a RecommendResponse of N items (itemId "item-%05d", score 1/(i+3), channel u2i/icf/hot).
 *
 * <pre>  Bench ITEMS WARMUP_ITERATIONS ITERATIONS ROUNDS</pre>
 *
 * Prints one JSON line: best round's microseconds of this thread's CPU time per op (the machine
 * is shared, so wall time would mostly measure the neighbours), and the payload's SHA-256 so the
 * Python side can check both codecs timed the very same bytes.
 */
public final class Bench {
    private Bench() {
    }

    static RecommendResponse payload(int items) {
        String[] channels = {"u2i", "icf", "hot"};
        List<RecommendItem> list = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            list.add(new RecommendItem(String.format("item-%05d", i), 1.0 / (i + 3), channels[i % 3]));
        }
        return new RecommendResponse("bench-1", list);
    }

    static byte[] encode(Object value) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(8192);
        Hessian2Output out = new Hessian2Output(bytes);
        out.writeObject(value);
        out.flush();
        return bytes.toByteArray();
    }

    static Object decode(byte[] data) throws IOException {
        return new Hessian2Input(new ByteArrayInputStream(data)).readObject();
    }

    public static void main(String[] args) throws Exception {
        int items = Integer.parseInt(args[0]);
        int warmup = Integer.parseInt(args[1]);
        int iterations = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        RecommendResponse value = payload(items);
        byte[] data = encode(value);
        if (!value.equals(decode(data))) {
            throw new IllegalStateException("decode(encode(x)) != x");
        }
        long sink = 0;
        for (int i = 0; i < warmup; i++) {
            sink += encode(value).length;
            sink += decode(data).hashCode() & 1;
        }
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        double bestEncode = Double.MAX_VALUE;
        double bestDecode = Double.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            long start = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < iterations; i++) {
                sink += encode(value).length;
            }
            bestEncode = Math.min(bestEncode, (cpu.getCurrentThreadCpuTime() - start) / 1000.0 / iterations);
            start = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < iterations; i++) {
                sink += decode(data).hashCode() & 1;
            }
            bestDecode = Math.min(bestDecode, (cpu.getCurrentThreadCpuTime() - start) / 1000.0 / iterations);
        }
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        System.out.printf("{\"encode_us\": %.3f, \"decode_us\": %.3f, \"bytes\": %d, \"sha256\": \"%s\", \"sink\": %d}%n",
                bestEncode, bestDecode, data.length, sha, sink % 2);
    }
}
