#!/bin/sh
echo "started as $(id -u)"
