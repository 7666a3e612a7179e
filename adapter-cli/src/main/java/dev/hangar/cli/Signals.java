package dev.hangar.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Catches SIGTERM and SIGINT so that a server can shut down in order and exit 0, where the JVM's
 * own handling would exit 143 (or 130). Uses {@code sun.misc.Signal} (module jdk.unsupported)
 * reflectively; where it is missing, the JVM's default handling (and shutdown hooks) remain.
 */
final class Signals {
  private static final System.Logger LOG = System.getLogger(Signals.class.getName());

  private Signals() {}

  /** Runs {@code action} (once per signal) on SIGTERM and SIGINT instead of ending the JVM. */
  static void onTermination(Runnable action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object proxy =
          Proxy.newProxyInstance(
              Signals.class.getClassLoader(), new Class<?>[] {handler}, new Forwarder(action));
      Method handle = signal.getMethod("handle", signal, handler);
      for (String name : new String[] {"TERM", "INT"}) {
        handle.invoke(null, signal.getConstructor(String.class).newInstance(name), proxy);
      }
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "cannot catch termination signals ({0}); shutdown hooks handle them",
          e.toString());
    }
  }

  private record Forwarder(Runnable action) implements InvocationHandler {
    @Override
    public Object invoke(Object proxy, Method method, Object[] arguments) {
      if (method.getName().equals("handle")) {
        action.run();
        return null;
      }
      return switch (method.getName()) {
        case "hashCode" -> System.identityHashCode(proxy);
        case "equals" -> proxy == arguments[0];
        default -> "termination signal handler";
      };
    }
  }
}
