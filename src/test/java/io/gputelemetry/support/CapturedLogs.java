package io.gputelemetry.support;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/** The events one logger emits while this is open (level, message, context fields). */
public final class CapturedLogs implements AutoCloseable {
  /** One captured line. */
  public record Line(Level level, String message, Map<String, String> fields) {}

  private final String logger;
  private final LoggerContext context;
  private final AbstractAppender appender;
  private final List<Line> lines = new CopyOnWriteArrayList<>();
  private final boolean added;

  public CapturedLogs(Class<?> of) {
    this.logger = of.getName();
    this.context = (LoggerContext) LogManager.getContext(false);
    this.appender =
        new AbstractAppender("captured-" + logger, null, null, true, Property.EMPTY_ARRAY) {
          @Override
          public void append(LogEvent e) {
            lines.add(
                new Line(
                    e.getLevel(),
                    e.getMessage().getFormattedMessage(),
                    Map.copyOf(e.getContextData().toMap())));
          }
        };
    appender.start();
    Configuration config = context.getConfiguration();
    LoggerConfig own = config.getLoggers().get(logger);
    if (own == null) {
      own = new LoggerConfig(logger, Level.DEBUG, true);
      config.addLogger(logger, own);
      added = true;
    } else {
      added = false;
    }
    own.setLevel(Level.DEBUG);
    own.addAppender(appender, Level.DEBUG, null);
    context.updateLoggers();
  }

  public List<Line> lines() {
    return List.copyOf(lines);
  }

  public List<Line> at(Level level) {
    return lines.stream().filter(l -> l.level() == level).toList();
  }

  @Override
  public void close() {
    Configuration config = context.getConfiguration();
    if (added) {
      config.removeLogger(logger);
    } else {
      config.getLoggers().get(logger).removeAppender(appender.getName());
    }
    context.updateLoggers();
    appender.stop();
  }
}
