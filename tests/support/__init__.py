"""What the tests and the benchmark share: starting the real stack (``stack``), the
scale-out services from Debian's packages (``services``) and platform doubles
(``mock_platforms``)."""
