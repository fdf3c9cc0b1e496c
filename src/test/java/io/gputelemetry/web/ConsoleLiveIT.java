package io.gputelemetry.web;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gputelemetry.support.HeadlessChromium;
import io.gputelemetry.support.JarProcess;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The README's first run: {@code java -jar gpu-telemetry.jar} with its defaults (standalone, the
 * simulator unbounded, no keys), then the printed URL opened in a browser. Each page, opened in
 * turn as a person would, must show live rows within 10 s of being opened: the fleet (the printed
 * URL, opened the moment it is printed) its GPUs with their utilisation, the models their tokens,
 * the usage table its lines, the pipeline its stored events. The times, and the jar's start until
 * it printed its URL, go to {@code target/console-live.txt}.
 */
class ConsoleLiveIT {
  private static final Duration LIMIT = Duration.ofSeconds(10);
  private static final Pattern HTTP = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/)");
  private static final Pattern STARTED = Pattern.compile("started in (\\d+) ms");

  @Test
  void everyPageShowsLiveDataWithinTenSecondsOfBeingOpened() throws Exception {
    Path downloads = Files.createDirectories(Path.of("target", "console-downloads"));
    ChromeDriver browser = HeadlessChromium.start(downloads);
    // The browser is up before the clock starts: the time measured is the jar's and the page's.
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    int cores = Runtime.getRuntime().availableProcessors();
    try (JarProcess jar = JarProcess.start("--http-port", "0")) {
      long start = System.nanoTime();
      // Awaited past the limit, so that a slow start is measured rather than cut short.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> jar.find(HTTP) != null || !jar.alive());
      String url = jar.find(HTTP);
      assertNotNull(url, "printed its URL:\n" + jar.output());
      long printed = System.nanoTime() - start;
      long opened = System.nanoTime();
      browser.get(url + "#/fleet");
      Map<String, Long> shown = new LinkedHashMap<>();
      Map<String, Long> cpu = new LinkedHashMap<>();
      shown.put(
          "fleet",
          liveAfter(
              opened,
              () -> {
                List<WebElement> rows =
                    browser.findElements(By.cssSelector("#fleet-table tbody tr[data-uuid]"));
                // Live: every row carries a reading (its utilisation in %).
                return !rows.isEmpty()
                    && rows.stream()
                        .allMatch(
                            r ->
                                r.findElements(By.xpath("./th|./td"))
                                    .get(5)
                                    .getText()
                                    .endsWith(" %"));
              }));
      cpu.put("fleet", cpuMillis(jar));
      shown.put(
          "models",
          liveAfter(
              open(browser, "#/models"),
              () ->
                  !browser
                      .findElements(By.cssSelector("#models-table tbody tr[data-model]"))
                      .isEmpty()));
      shown.put(
          "usage",
          liveAfter(
              open(browser, "#/usage"),
              () ->
                  !browser.findElements(By.cssSelector("#usage-table tbody tr.group")).isEmpty()));
      shown.put(
          "pipeline",
          liveAfter(
              open(browser, "#/pipeline"),
              () ->
                  browser
                      .findElement(
                          By.xpath("//div[@class='card'][dt[normalize-space()='Stored']]/dd/small"))
                      .getText()
                      .matches("[1-9][0-9,.]*( [kMG])? in total.*")));
      cpu.put("pipeline", cpuMillis(jar));
      StringBuilder report =
          new StringBuilder(
              String.format(
                  "jar start to printed URL: %d ms (the jar's own count: started in %s ms; load"
                      + " average %.1f on %d cores as it started)%n",
                  Duration.ofNanos(printed).toMillis(), jar.find(STARTED), load, cores));
      shown.forEach(
          (page, ms) ->
              report.append(
                  String.format("the %s page opened to showing live rows: %d ms%n", page, ms)));
      // CPU time depends less on other work than wall time: what the jar needs of the cores.
      cpu.forEach(
          (page, ms) ->
              report.append(
                  String.format("the jar's CPU time until the %s page showed: %d ms%n", page, ms)));
      Files.writeString(Path.of("target", "console-live.txt"), report);
      System.out.print(report);
      assertEquals(List.of(), HeadlessChromium.consoleErrors(browser), "the browser's console");
      shown.forEach(
          (page, ms) ->
              assertTrue(
                  ms <= LIMIT.toMillis(),
                  page + " showed live rows " + ms + " ms after it was opened:\n" + report));
    } finally {
      browser.quit();
    }
  }

  /**
   * Opens a page by its hash, as the navigation does (the console is already loaded); returns when
   * it was opened.
   */
  private static long open(ChromeDriver browser, String hash) {
    long opened = System.nanoTime();
    ((JavascriptExecutor) browser).executeScript("location.hash = arguments[0];", hash);
    return opened;
  }

  /** The CPU time the jar's process has used, all its threads together. */
  private static long cpuMillis(JarProcess jar) {
    return ProcessHandle.of(jar.pid())
        .flatMap(p -> p.info().totalCpuDuration())
        .map(Duration::toMillis)
        .orElse(-1L);
  }

  /** Milliseconds from the page's opening until it shows live rows (awaited up to 30 s). */
  private static long liveAfter(long opened, Callable<Boolean> live) {
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(live);
    return Duration.ofNanos(System.nanoTime() - opened).toMillis();
  }
}
