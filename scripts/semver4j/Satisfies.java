// Reads "version<TAB>range" lines, prints "version<TAB>range<TAB>true|false|error": new Semver(v).satisfies(r).
import org.semver4j.Semver;
import java.io.*;
public class Satisfies {
  public static void main(String[] a) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in));
    String line;
    while ((line = r.readLine()) != null) {
      String[] p = line.split("\t", -1);
      String out;
      try { out = String.valueOf(new Semver(p[0]).satisfies(p[1])); } catch (Exception e) { out = "error"; }
      System.out.println(p[0] + "\t" + p[1] + "\t" + out);
    }
  }
}
