package io.gputelemetry.support;

import io.gputelemetry.Application;
import io.gputelemetry.config.AppConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A producer (simulator off, HTTP ingest on) and a processor in this JVM, on the shared test broker
 * and their own MongoDB-wire store, with topics and group unique to the test.
 */
public final class RunningPipeline implements AutoCloseable {
  private final TestMongo mongo = new TestMongo();
  private final Application producer;
  private final Application processor;
  private final MongoQueries store;
  private final AppConfig config;
  private final AppConfig processorConfig;
  private final Map<String, String> producerSettings;
  private final java.util.List<Application> extra = new java.util.ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public RunningPipeline(Map<String, String> overrides) throws Exception {
    String sfx = TestConfigs.unique();
    Map<String, String> p = TestConfigs.base("producer", mongo.uri(), sfx);
    p.put("simulator.enabled", "false");
    p.putAll(overrides);
    Map<String, String> c = new HashMap<>(p);
    c.put("role", "processor");
    producerSettings = Map.copyOf(p);
    config = TestConfigs.of(p);
    processorConfig = TestConfigs.of(c);
    processor = new Application(processorConfig).start();
    producer = new Application(config).start();
    producer
        .producer()
        .topicsReady()
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, java.util.concurrent.TimeUnit.SECONDS);
    store = new MongoQueries(mongo.uri());
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + producer.httpPort();
  }

  public String processorUrl() {
    return "http://127.0.0.1:" + processor.httpPort();
  }

  public AppConfig config() {
    return config;
  }

  public Application producer() {
    return producer;
  }

  public Application processor() {
    return processor;
  }

  /** Another processor in the same consumer group. */
  public Application addProcessor() throws Exception {
    Application a = new Application(processorConfig).start();
    extra.add(a);
    return a;
  }

  /** Another producer on the same broker, with these settings changed from the first one's. */
  public Application addProducer(Map<String, String> overrides) throws Exception {
    Map<String, String> p = new HashMap<>(producerSettings);
    p.putAll(overrides);
    Application a = new Application(TestConfigs.of(p)).start();
    extra.add(a);
    return a;
  }

  public AppConfig processorConfig() {
    return processorConfig;
  }

  public MongoQueries store() {
    return store;
  }

  public HttpResponse<String> post(String path, String contentType, byte[] body, String apiKey)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl() + path))
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<String> get(String url) throws Exception {
    return get(url, null);
  }

  /** GET with an API key (null: none). */
  public HttpResponse<String> get(String url, String apiKey) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    producer.close();
    processor.close();
    extra.forEach(Application::close);
    store.close();
    mongo.close();
  }
}
