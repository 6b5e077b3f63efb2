# Sourced by the shell scripts that read test data: where the repository's fixtures are, and a fixture path that
# fails with one clear message when the file is missing.
#   . "$root/Tests/fixtures.sh"; image=$(fixture images/cat-baseline-420.jpg)
fixtures_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/Fixtures"

# fixture RELATIVE_PATH: prints the absolute path of a file or directory under Tests/Fixtures, or exits 1 saying
# which fixture is missing.
fixture() {
    if [ ! -e "$fixtures_dir/$1" ]; then
        echo "test fixture Tests/Fixtures/$1 is missing: the repository's test data is incomplete" \
            "(cd Tests/Fixtures && sha256sum -c SHA256SUMS)" >&2
        exit 1
    fi
    printf '%s\n' "$fixtures_dir/$1"
}
