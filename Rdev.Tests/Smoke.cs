namespace Rdev.Tests; public class Smoke { [Fact] public void Ok() {} }
