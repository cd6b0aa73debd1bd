package org.dubborecsys.producer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends realtime events to the topics {@code dubbo-recsys consume} reads, the way a Java service would:
 * user events keyed by user id (one user's events stay in order on one partition), item events keyed by
 * item id, idempotent producer, acks=all.
 *
 * <pre>
 * java -cp target/classes:$(cat target/classpath.txt) org.dubborecsys.producer.EventProducer
 *     --bootstrap 127.0.0.1:9092 [--users-topic recsys-user-events] [--items-topic recsys-item-events]
 *     --user 196 --clicks 242,302,377 [--new-item 9001:Comedy] [--remove-item 50]
 * </pre>
 * Prints one line per record sent: {@code sent TOPIC PARTITION OFFSET KEY}.
 */
public final class EventProducer {
    private EventProducer() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("--users-topic", "recsys-user-events");
        options.put("--items-topic", "recsys-item-events");
        options.put("--clicks", "");
        options.put("--new-item", "");
        options.put("--remove-item", "");
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        String bootstrap = require(options, "--bootstrap");
        String user = require(options, "--user");

        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        config.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

        List<ProducerRecord<String, String>> records = new ArrayList<>();
        long now = System.currentTimeMillis();
        String usersTopic = options.get("--users-topic");
        String itemsTopic = options.get("--items-topic");
        String newItem = options.get("--new-item");
        if (!newItem.isEmpty()) {
            String[] parts = newItem.split(":", 2);
            String category = parts.length > 1 ? parts[1] : "";
            records.add(new ProducerRecord<>(itemsTopic, parts[0], EventJson.itemUpsert(
                    UUID.randomUUID().toString(), parts[0], now, category, List.of(category),
                    Map.of("source", "java \"sample\""))));
        }
        String[] clicks = options.get("--clicks").isEmpty() ? new String[0] : options.get("--clicks").split(",");
        for (int i = 0; i < clicks.length; i++) {
            records.add(new ProducerRecord<>(usersTopic, user, EventJson.userEvent(
                    UUID.randomUUID().toString(), user, clicks[i], "click", 1.0, now + i, "home", "java-" + i)));
        }
        String removed = options.get("--remove-item");
        if (!removed.isEmpty()) {
            records.add(new ProducerRecord<>(itemsTopic, removed,
                    EventJson.itemRemove(UUID.randomUUID().toString(), removed, now + clicks.length)));
        }
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (ProducerRecord<String, String> record : records) {
                sent.add(producer.send(record));
            }
            producer.flush();
            for (int i = 0; i < sent.size(); i++) {
                RecordMetadata meta = sent.get(i).get();
                System.out.println("sent " + meta.topic() + " " + meta.partition() + " " + meta.offset() + " "
                        + records.get(i).key());
            }
        }
    }

    private static String require(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(name + " is required");
        }
        return value;
    }
}
