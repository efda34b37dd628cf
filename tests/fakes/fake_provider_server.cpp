// Being written (replaced in the same session).
int main() { return 1; }
