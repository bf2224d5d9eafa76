# units.sed -- the systemd units of conf-examples/systemd, as the package
# installs them (debian/rules): programs in /usr/sbin, and the header's
# "Install: cp ..." lines for `make install` replaced by where to read.
s,/usr/local/sbin/,/usr/sbin/,g
/^# Install: /,/^# (make deb) installs this unit/c\
# Installed by the authrelay Debian package; enable it once configured\
# (/usr/share/doc/authrelay/README.Debian).
