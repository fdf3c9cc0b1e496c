package io.gputelemetry.loadtest;

import io.gputelemetry.Application;
import io.gputelemetry.config.AppConfig;
import io.gputelemetry.config.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The console's fleet page with 1,000 simulated GPUs, measured in the browser (headless Chromium):
 * time until the page is interactive (its first render of the whole inventory, from the Performance
 * API's navigation start) and the frame budget while it refreshes every 5 s (requestAnimationFrame
 * intervals and long tasks over {@code seconds}). Not a test: run it by hand, {@code java -cp
 * target/test-classes:target/gpu-telemetry.jar:$(cat target/bench.cp)
 * io.gputelemetry.loadtest.ConsoleFleetBench [seconds]} (see docs/performance.md).
 */
public final class ConsoleFleetBench {
  private ConsoleFleetBench() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    AppConfig config =
        AppConfig.from(
            Settings.load(
                null,
                Map.of(),
                Map.of(
                    "http.port", "0",
                    "simulator.nodes", "125",
                    "simulator.gpus-per-node", "8",
                    "simulator.sample-interval", "5s",
                    "simulator.rate", "50",
                    "standalone.progress-interval", "0s")));
    try (Application app = new Application(config).start()) {
      String url = "http://127.0.0.1:" + app.httpPort() + "/";
      // Until every GPU has reported once (the inventory holds 1,000).
      long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      while (true) {
        String body =
            http.send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(url + "api/v1/gpus?limit=1"))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString())
                .body();
        if (body.contains("\"total\":1000")) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the inventory never reached 1,000 GPUs: " + body);
        }
        Thread.sleep(500); // polling the inventory: no event to await in another process's store
      }
      ChromeOptions options = new ChromeOptions();
      options.setBinary("/usr/bin/chromium");
      options.addArguments(
          "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000");
      ChromeDriver browser =
          new ChromeDriver(
              new ChromeDriverService.Builder()
                  .usingDriverExecutable(new java.io.File("/usr/bin/chromedriver"))
                  .build(),
              options);
      try {
        browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(seconds + 60));
        for (int run = 1; run <= 3; run++) {
          browser.get("about:blank");
          browser.get(url + "#/fleet");
          JavascriptExecutor js = browser;
          Object tti = null;
          while (tti == null) {
            tti =
                js.executeScript(
                    "const m = performance.getEntriesByName('console-ready:fleet')[0];"
                        + " return m ? m.startTime : null;");
          }
          System.out.printf(
              "run %d: fleet page interactive after %.0f ms (%s rows)%n",
              run,
              ((Number) tti).doubleValue(),
              browser.findElement(By.id("fleet-range")).getText());
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> frames =
            (Map<String, Object>)
                ((JavascriptExecutor) browser)
                    .executeAsyncScript(
                        "const done = arguments[arguments.length - 1];"
                            + "const gaps = []; const longs = [];"
                            + "new PerformanceObserver(l => l.getEntries().forEach(e =>"
                            + " longs.push(e.duration))).observe({type: 'longtask'});"
                            + "let last = performance.now(); const end = last + "
                            + seconds * 1000
                            + ";function tick(t) { gaps.push(t - last); last = t; if (t < end)"
                            + " requestAnimationFrame(tick); else { gaps.sort((a, b) => a - b);"
                            + " const q = p => gaps[Math.min(gaps.length - 1, Math.floor(p *"
                            + " gaps.length))]; done({frames: gaps.length, p50: q(0.5), p95:"
                            + " q(0.95), p99: q(0.99), max: gaps[gaps.length - 1], over50:"
                            + " gaps.filter(g => g > 50).length, longTasks: longs.length,"
                            + " longestTask: Math.max(0, ...longs), apiMs:"
                            + " avg(performance.getEntriesByType('resource').filter(e =>"
                            + " e.name.includes('/api/v1/gpus')).map(e => e.duration)), renderMs:"
                            + " avg(performance.getEntriesByName('fleet-render').map(e =>"
                            + " e.duration))}); } }function avg(a) { return a.length ? a.reduce((x,"
                            + " y) => x + y) / a.length : -1; }requestAnimationFrame(tick);");
        System.out.println("frames over " + seconds + " s of refreshes every 5 s (ms): " + frames);
        for (String f : List.of("p50", "p95", "p99", "max", "longestTask", "apiMs", "renderMs")) {
          System.out.printf("  %s %.1f ms%n", f, ((Number) frames.get(f)).doubleValue());
        }
      } finally {
        browser.quit();
      }
    }
  }
}
