package io.gputelemetry.support;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless Chromium through its chromedriver (nothing downloaded), as the console's
 * browser tests drive it: an English locale, a desktop window, the browser's console log kept so
 * that a test can fail on any error or failed request, and downloads saved to a folder without
 * asking.
 */
public final class HeadlessChromium {
  private static final String INSTALL = "apt-get install -y chromium chromium-driver";

  private HeadlessChromium() {}

  /** Starts a browser (the test is skipped or fails as {@link RequiredTool} says when missing). */
  public static ChromeDriver start(Path downloads) {
    Path chromium = RequiredTool.require("chromium", INSTALL);
    Path driver = RequiredTool.require("chromedriver", INSTALL);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--lang=en-US",
        "--window-size=1400,1000");
    options.setExperimentalOption(
        "prefs",
        Map.of(
            "download.default_directory",
            downloads.toAbsolutePath().toString(),
            "download.prompt_for_download",
            false));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriver browser =
        new ChromeDriver(
            new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile()).build(),
            options);
    browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    return browser;
  }

  /**
   * The browser-console entries at WARNING or above since the last call: script errors, and every
   * failed request (Chromium logs those too).
   */
  public static List<String> consoleErrors(ChromeDriver browser) {
    List<String> errors = new ArrayList<>();
    for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.WARNING.intValue()) {
        errors.add(e.getLevel() + " " + e.getMessage());
      }
    }
    return errors;
  }
}
