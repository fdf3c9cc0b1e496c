package io.gputelemetry.support;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Awaitility's defaults for every test class, registered through JUnit's extension autodetection
 * ({@code junit-platform.properties} and {@code META-INF/services}): a condition is first checked
 * at once instead of after a 100 ms delay, so an await whose condition already holds costs nothing
 * (it cost 100 ms each, about 1 s of ConsumeLoopTest's 1.2 s, paid again for every mutant PIT ran
 * it on). Conditions are still polled every 100 ms; an await that sets its own poll delay keeps it.
 */
public final class AwaitDefaults implements BeforeAllCallback {
  @Override
  public void beforeAll(ExtensionContext context) {
    Awaitility.setDefaultPollDelay(Duration.ZERO);
  }
}
